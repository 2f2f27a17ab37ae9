-- wrk script: POST a small OpenAI Responses request (the same question as chat_post.lua).
wrk.method = "POST"
wrk.path = "/v1/responses"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"mock-model","instructions":"You are terse.",' ..
           '"input":"Summarize the benefits of connection pooling.","max_output_tokens":64}'

-- wrk script: POST a small (~180 B) OpenAI chat completion request, keep-alive.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"mock-model","messages":[{"role":"system","content":"You are terse."},' ..
           '{"role":"user","content":"Summarize the benefits of connection pooling."}],"max_tokens":64}'

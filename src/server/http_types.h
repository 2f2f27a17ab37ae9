#pragma once
// HTTP value types of the shared server: Beast messages with std::string bodies. The handler gets
// a parsed Request; it answers with a complete Response, or with a ResponseHead followed by
// streamed chunks (see response_writer.h).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace llmpool::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
/** Status and header fields only (the start of a streamed response). */
using ResponseHead = boost::beast::http::response_header<>;
using Status = boost::beast::http::status;

}  // namespace llmpool::server

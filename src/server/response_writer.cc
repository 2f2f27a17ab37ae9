#include "server/response_writer.h"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>

#include "server/connection.h"

namespace llmpool::server {

Exchange::~Exchange() {
  // The last handle is gone. If nobody answered, let the connection clean up on its own thread.
  // A closed connection needs nothing (and its context may be shutting down).
  if (!completed.load(std::memory_order_acquire) && !connection->gone()) {
    boost::asio::post(connection->executor(), [c = connection, i = id] { c->abandonExchange(i); });
  }
}

template <class Fn>
void ResponseWriter::run(Fn fn) {
  Exchange& ex = *exchange_;
  // Act directly only on the I/O thread and only when nothing posted earlier is still waiting,
  // so calls from different threads keep their order.
  if (ex.queued.load(std::memory_order_acquire) == 0 &&
      ex.connection->executor().running_in_this_thread()) {
    fn(*ex.connection, ex.id);
    return;
  }
  ex.queued.fetch_add(1, std::memory_order_acq_rel);
  boost::asio::post(ex.connection->executor(), [e = exchange_, fn = std::move(fn)]() mutable {
    fn(*e->connection, e->id);
    e->queued.fetch_sub(1, std::memory_order_acq_rel);
  });
}

void ResponseWriter::send(Response response) {
  if (exchange_->started.exchange(true)) return;
  exchange_->completed.store(true, std::memory_order_release);
  // From another thread, a complete response usually goes straight to the socket (no hop); only
  // when nothing posted earlier is still waiting, so calls keep their order.
  Exchange& ex = *exchange_;
  if (ex.queued.load(std::memory_order_acquire) == 0 &&
      !ex.connection->executor().running_in_this_thread() &&
      ex.connection->sendFromAnyThread(ex.id, response)) {
    return;
  }
  run([r = std::move(response)](Connection& c, uint64_t id) mutable {
    c.sendResponse(id, std::move(r));
  });
}

void ResponseWriter::send(Status status, std::string body, std::string_view content_type) {
  Response response{status, 11};
  response.set(boost::beast::http::field::content_type,
               boost::beast::string_view(content_type.data(), content_type.size()));
  response.body() = std::move(body);
  send(std::move(response));
}

void ResponseWriter::startStream(ResponseHead head) {
  if (exchange_->started.exchange(true)) return;
  run([h = std::move(head)](Connection& c, uint64_t id) mutable {
    c.startStream(id, std::move(h));
  });
}

void ResponseWriter::writeChunk(std::string data) {
  if (data.empty() || exchange_->completed.load(std::memory_order_acquire)) return;
  run([d = std::move(data)](Connection& c, uint64_t id) mutable {
    c.writeChunk(id, std::move(d));
  });
}

void ResponseWriter::finish() {
  if (exchange_->completed.exchange(true)) return;
  run([](Connection& c, uint64_t id) { c.finishStream(id); });
}

void ResponseWriter::abort() {
  exchange_->started.store(true, std::memory_order_release);
  if (exchange_->completed.exchange(true)) return;
  run([](Connection& c, uint64_t id) { c.abortExchange(id); });
}

bool ResponseWriter::clientGone() const { return exchange_->connection->gone(); }

void ResponseWriter::onDisconnect(std::function<void()> callback) {
  run([cb = std::move(callback)](Connection& c, uint64_t id) mutable {
    c.addDisconnectCallback(id, std::move(cb));
  });
}

std::size_t ResponseWriter::bufferedBytes() const { return exchange_->connection->bufferedBytes(); }

boost::asio::any_io_executor ResponseWriter::executor() const {
  return exchange_->connection->executor();
}

bool ResponseWriter::onIoThread() const {
  return exchange_->connection->executor().running_in_this_thread();
}

std::shared_ptr<void>& ResponseWriter::connectionData() const {
  return exchange_->connection->userData();
}

const std::string& ResponseWriter::remoteAddress() const {
  return exchange_->connection->remoteAddress();
}

}  // namespace llmpool::server

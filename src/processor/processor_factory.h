#pragma once
// Private construction seam: builds a BackgroundProcessor over a given TaskQueue (tests inject a
// queue they opened themselves; create() opens the one named by ProcessorConfig::queue).

#include <memory>

#include "llmpool/processor.h"
#include "tasks/task_queue.h"

namespace llmpool {

struct ProcessorFactory {
  static Result<std::unique_ptr<BackgroundProcessor>> create(
      ProcessorConfig config, std::unique_ptr<tasks::TaskQueue> queue, ProcessorDeps deps);
};

/** Every problem of a processor config, joined; empty when valid. */
std::string validateProcessorConfig(const ProcessorConfig& config);

}  // namespace llmpool

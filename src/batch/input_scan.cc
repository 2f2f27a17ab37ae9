// scanInput(): pass 1 of `llmpool run` reads every line of the file before the first request goes
// out (priorities decide the order, docs/run.md), so its time is the run's start-up latency. The
// lines are parsed on several threads, in slices cut at line ends; the results are then merged
// on the calling thread in file order, which is where line numbers, duplicates and the callbacks
// are handled, so the outcome does not depend on the number of threads.

#include <algorithm>
#include <thread>
#include <unordered_map>
#include <vector>

#include "batch/input_line.h"

namespace llmpool::batch {
namespace {

// Below this size one thread finishes before others would have started.
constexpr size_t kParallelBytes = 1 << 20;
constexpr size_t kMaxThreads = 4;

/** One non-blank line of a slice, parsed. `line` counts from the slice's start. */
struct ParsedLine {
  size_t line = 0;
  std::string_view text;
  std::optional<std::string> id;  // the task's id, or the readable custom_id of an invalid line
  Priority priority = Priority::Normal;
  std::optional<InputError> error;
};

struct Slice {
  std::string_view text;
  std::vector<ParsedLine> parsed;
  size_t line_count = 0;  // every line, blank ones included
};

void parseSlice(Slice& slice, const InputRules& rules) {
  const std::string_view text = slice.text;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const size_t number = ++slice.line_count;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (isBlankLine(line)) continue;
    ParsedLine& p = slice.parsed.emplace_back();
    p.line = number;
    p.text = line;
    auto task = parseInputLine(line, number, rules);
    if (task) {
      p.id = std::move(task->id);
      p.priority = task->priority;
    } else {
      p.id = task.error().custom_id;
      p.error = std::move(task.error());
    }
  }
}

/** Cuts `text` into up to `n` slices, each ending at a line end (the last at the text's end). */
std::vector<Slice> cut(std::string_view text, size_t n) {
  std::vector<Slice> slices;
  size_t start = 0;
  for (size_t k = 1; k <= n && start < text.size(); ++k) {
    size_t end = k == n ? text.size() : std::max(start, text.size() / n * k);
    if (end < text.size()) {
      end = text.find('\n', end);
      end = end == std::string_view::npos ? text.size() : end + 1;
    }
    slices.push_back(Slice{.text = text.substr(start, end - start), .parsed = {}});
    start = end;
  }
  return slices;
}

size_t threadsFor(std::string_view text, size_t asked) {
  if (asked > 0) return asked;
  if (text.size() < kParallelBytes) return 1;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxThreads);
}

}  // namespace

ScanCounts scanInput(std::string_view text, const InputRules& rules,
                     const std::function<void(const ValidLine&, const LineRef&)>& on_task,
                     const std::function<void(const InputError&)>& on_error, size_t threads) {
  std::vector<Slice> slices = cut(text, threadsFor(text, threads));
  {
    std::vector<std::jthread> helpers;
    for (size_t k = 1; k < slices.size(); ++k) {
      helpers.emplace_back([&slice = slices[k], &rules] { parseSlice(slice, rules); });
    }
    if (!slices.empty()) parseSlice(slices[0], rules);
  }  // joined

  ScanCounts counts;
  // Every custom_id seen so far, valid line or not, with its first line: the first line owns the
  // id's output line, later ones are duplicates.
  std::unordered_map<std::string, size_t> first_line;
  size_t base = 0;  // lines before the current slice
  for (Slice& slice : slices) {
    for (ParsedLine& p : slice.parsed) {
      const size_t number = base + p.line;
      ++counts.lines;
      if (p.id) {
        auto [it, inserted] = first_line.try_emplace(*p.id, number);
        if (!inserted) {
          ++counts.invalid;
          on_error(InputError{
              number, p.id,
              "custom_id: '" + *p.id + "' duplicates line " + std::to_string(it->second), true});
          continue;
        }
      }
      if (p.error) {
        ++counts.invalid;
        p.error->line = number;
        on_error(*p.error);
      } else {
        ++counts.valid;
        on_task(ValidLine{.id = std::move(*p.id), .priority = p.priority}, LineRef{number, p.text});
      }
    }
    base += slice.line_count;
    slice.parsed = {};  // release as we go: the merge's memory peak is the parse's
  }
  return counts;
}

}  // namespace llmpool::batch

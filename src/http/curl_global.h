#pragma once
// Process-wide libcurl initialisation.

#include "llmpool/error.h"

namespace llmpool::http {

/**
 * Calls curl_global_init exactly once per process (later calls return the first outcome). Every
 * component that creates a curl handle calls it first; apps may call it early in main so it runs
 * before other threads exist. curl_global_cleanup is deliberately never called: threads of other
 * components may still use curl while static destructors run, and the OS reclaims the memory.
 * Thread-safe.
 */
Result<void> ensureCurlGlobalInit();

}  // namespace llmpool::http

# LLMPOOL_SANITIZE="address;undefined" or "thread": applied to every target of this build tree.
if(LLMPOOL_SANITIZE)
  string(REPLACE ";" "," _llmpool_san "${LLMPOOL_SANITIZE}")
  add_compile_options(-fsanitize=${_llmpool_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_llmpool_san})
  if("undefined" IN_LIST LLMPOOL_SANITIZE)
    # UBSan's vptr check validates a vtable by writing it through a pipe (sanitizer_common's
    # IsAccessibleMemoryRange). In a process that is out of descriptors, which the
    # descriptor-exhaustion tests create on purpose, pipe() fails and every uncached dynamic
    # type check reports "invalid vptr" on valid objects (seen inside Boost.Asio and
    # std::shared_ptr). The other UBSan checks do not need descriptors and stay on.
    add_compile_options(-fno-sanitize=vptr)
  endif()
endif()

# LLMPOOL_SANITIZE="address;undefined" or "thread": applied to every target of this build tree.
if(LLMPOOL_SANITIZE)
  string(REPLACE ";" "," _llmpool_san "${LLMPOOL_SANITIZE}")
  add_compile_options(-fsanitize=${_llmpool_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_llmpool_san})
endif()

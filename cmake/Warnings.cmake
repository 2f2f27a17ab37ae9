# Warnings live on an INTERFACE target linked PRIVATE by our own targets, never in global flags.
add_library(llmpool_warnings INTERFACE)
target_compile_options(llmpool_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
                       -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(LLMPOOL_WERROR)
  target_compile_options(llmpool_warnings INTERFACE -Werror)
endif()

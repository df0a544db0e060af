#include "osprofiler/sqlite/error.h"

#include <utility>

namespace osprofiler::sqlite {

error::error(int code, int extended_code, const std::string& message, std::string statement)
    : std::runtime_error(message), code_(code), extended_code_(extended_code), statement_(std::move(statement)) {}

}  // namespace osprofiler::sqlite

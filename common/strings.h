// Small string helpers shared by the parsers.
#pragma once

#include <string>
#include <vector>

namespace kiln {

/// Every part of s between seps, empty ones included: "a::b" is {"a", "", "b"}, "" is {""}.
std::vector<std::string> split(const std::string& s, char sep);

}  // namespace kiln

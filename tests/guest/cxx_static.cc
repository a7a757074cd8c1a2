// Static C++: iostream, a thrown and caught exception (unwinding through libgcc), std::string,
// std::vector and std::sort.
#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

int smallest(std::vector<int> values) {
    std::sort(values.begin(), values.end());
    if (!std::is_sorted(values.begin(), values.end())) throw std::logic_error("sort failed");
    return values.front();
}

void fail(int value) { throw std::runtime_error("boom " + std::to_string(value)); }

}  // namespace

int main() {
    int value = smallest({3, 1, 2});
    try {
        fail(value);
        std::cout << "no exception" << std::endl;
        return 1;
    } catch (const std::exception& e) {
        std::cout << "caught: " << e.what() << std::endl;
    }
    std::string message = "cxx";
    message += " ";
    message += "ok";
    std::cout << message << std::endl;
    return 0;
}

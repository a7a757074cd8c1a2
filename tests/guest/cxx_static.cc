#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>
#include <algorithm>
int main() { std::vector<int> v{3,1,2}; std::sort(v.begin(), v.end());
 try { throw std::runtime_error("boom " + std::to_string(v[0])); } catch (const std::exception& e) { std::cout << "caught: " << e.what() << std::endl; }
 std::string s = "cxx"; s += " ok"; std::cout << s << std::endl; return 0; }

module phoenix.test/go_hello

go 1.19

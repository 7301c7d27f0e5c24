module example.com/kiln-fixture/greet

go 1.19

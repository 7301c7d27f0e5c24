// The program test/attest/sbom/go-binary.test.ts builds and scans; what it
// prints does not matter, only that it imports both dependencies.
package main

import (
	"fmt"

	"example.com/kiln-fixture/greet"
	"example.com/kiln-fixture/shout"
)

func main() { fmt.Println(shout.Shout(greet.Hello())) }

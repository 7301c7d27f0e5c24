module example.com/kiln-fixture/app

go 1.19

require (
	example.com/kiln-fixture/greet v0.0.0
	example.com/kiln-fixture/shout v1.0.0
)

// A local module: the build info names the directory, not a version.
replace example.com/kiln-fixture/greet => ./greet

// Another module standing in for a dependency: the build info names both.
replace example.com/kiln-fixture/shout v1.0.0 => example.com/kiln-fixture/shout-fork v1.1.0

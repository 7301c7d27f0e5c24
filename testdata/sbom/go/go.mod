module example.com/app

go 1.22

toolchain go1.22.1

require github.com/google/uuid v1.6.0

require (
	github.com/BurntSushi/toml v1.3.2
	github.com/docker/docker v25.0.5+incompatible
	github.com/old/thing v1.0.0
	example.com/app/lib v0.0.0-00010101000000-000000000000
	gopkg.in/yaml.v3 v3.0.1
)

require (
	golang.org/x/sys v0.18.0 // indirect
	github.com/pinned/dep v1.1.0 // indirect
)

// Fork with a fix; see upstream issue.
replace github.com/old/thing => github.com/new/thing v1.2.0

replace example.com/app/lib => ./lib

replace github.com/pinned/dep v1.0.0 => github.com/other/dep v9.9.9

exclude golang.org/x/net v0.1.0

retract v0.9.0

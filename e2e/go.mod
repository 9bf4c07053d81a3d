module github.com/slogwf/slogwf/e2e

go 1.26.0

replace github.com/slogwf/slogwf => ../

require (
	github.com/slogwf/slogwf v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/lmittmann/tint v1.2.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

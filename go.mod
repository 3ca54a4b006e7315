module github.com/edgeauth/edgeauth

go 1.25.0

require (
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/maypok86/otter/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.6 // indirect

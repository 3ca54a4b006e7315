module github.com/edgeauth/edgeauth/examples

go 1.25.0

require (
	github.com/edgeauth/edgeauth v0.0.0-00010101000000-000000000000
	github.com/edgeauth/edgeauth/redisstore v0.0.0-00010101000000-000000000000
	github.com/go-chi/chi/v5 v5.5.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace (
	github.com/edgeauth/edgeauth => ../
	github.com/edgeauth/edgeauth/redisstore => ../redisstore
)

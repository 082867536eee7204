module github.com/nhsengland/gp2gp/libs/largemsg

go 1.26.0

require (
	github.com/nats-io/nats.go v1.55.0
	github.com/nhsengland/gp2gp/libs/bus v0.0.0
	github.com/nhsengland/gp2gp/libs/ebxml v0.0.0
	github.com/nhsengland/gp2gp/libs/hl7 v0.0.0
	github.com/nhsengland/gp2gp/libs/natsembed v0.0.0
	github.com/nhsengland/gp2gp/libs/spectest v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/antithesishq/antithesis-sdk-go v0.8.0-default-no-op // indirect
	github.com/beevik/etree v1.8.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/nats-io/jwt/v2 v2.8.2 // indirect
	github.com/nats-io/nats-server/v2 v2.15.2 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/nhsengland/gp2gp/libs/xmldoc v0.0.0 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/nhsengland/gp2gp/libs/bus => ../bus
	github.com/nhsengland/gp2gp/libs/ebxml => ../ebxml
	github.com/nhsengland/gp2gp/libs/hl7 => ../hl7
	github.com/nhsengland/gp2gp/libs/natsembed => ../natsembed
	github.com/nhsengland/gp2gp/libs/spectest => ../spectest
	github.com/nhsengland/gp2gp/libs/xmldoc => ../xmldoc
)

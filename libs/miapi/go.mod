module github.com/nhsengland/gp2gp/libs/miapi

go 1.26.0

require (
	github.com/google/uuid v1.6.0
	github.com/nhsengland/gp2gp/libs/spectest v0.0.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
)

replace github.com/nhsengland/gp2gp/libs/spectest => ../spectest

module github.com/nhsengland/gp2gp/libs/hl7

go 1.26

require (
	github.com/beevik/etree v1.8.1
	github.com/nhsengland/gp2gp/libs/xmldoc v0.0.0
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/nhsengland/gp2gp/libs/xmldoc => ../xmldoc

require (
	github.com/google/uuid v1.6.0
	github.com/nhsengland/gp2gp/libs/spectest v0.0.0
)

replace github.com/nhsengland/gp2gp/libs/spectest => ../spectest

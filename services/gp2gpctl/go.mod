module github.com/nhsengland/gp2gp/services/gp2gpctl

go 1.26

require (
	github.com/nhsengland/gp2gp/libs/ebxml v0.0.0
	github.com/nhsengland/gp2gp/libs/hl7 v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/nhsengland/gp2gp/libs/xmldoc v0.0.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace (
	github.com/nhsengland/gp2gp/libs/ebxml => ../../libs/ebxml
	github.com/nhsengland/gp2gp/libs/hl7 => ../../libs/hl7
	github.com/nhsengland/gp2gp/libs/xmldoc => ../../libs/xmldoc
)

require github.com/nhsengland/gp2gp/libs/spectest v0.0.0

replace github.com/nhsengland/gp2gp/libs/spectest => ../../libs/spectest

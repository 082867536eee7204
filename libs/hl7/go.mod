module github.com/nhsengland/gp2gp/libs/hl7

go 1.26

require (
	github.com/beevik/etree v1.8.1
	github.com/nhsengland/gp2gp/libs/xmldoc v0.0.0
	github.com/stretchr/testify v1.12.1
)

replace github.com/nhsengland/gp2gp/libs/xmldoc => ../xmldoc

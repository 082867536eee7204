module github.com/nhsengland/gp2gp/libs/miapi

go 1.26.0

module github.com/nhsengland/gp2gp/services/mireporter

go 1.26

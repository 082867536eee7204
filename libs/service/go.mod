module github.com/nhsengland/gp2gp/libs/service

go 1.26

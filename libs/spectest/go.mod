module github.com/nhsengland/gp2gp/libs/spectest

go 1.26

module github.com/nhsengland/gp2gp/libs/transfer

go 1.26

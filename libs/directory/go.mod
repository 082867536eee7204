module github.com/nhsengland/gp2gp/libs/directory

go 1.26

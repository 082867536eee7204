module github.com/nhsengland/gp2gp/services/receiver

go 1.26

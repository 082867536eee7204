module github.com/nhsengland/gp2gp/services/sender

go 1.26

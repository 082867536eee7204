module github.com/nhsengland/gp2gp/services/requester

go 1.26

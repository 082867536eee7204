module github.com/nhsengland/gp2gp/services/devstack

go 1.26

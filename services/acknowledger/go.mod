module github.com/nhsengland/gp2gp/services/acknowledger

go 1.26

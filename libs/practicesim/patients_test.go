package practicesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/practicesim"
)

func TestPatientsAreValidAndDistinct(t *testing.T) {
	patients := practicesim.Patients()
	assert.GreaterOrEqual(t, len(patients), 5)
	seen := map[string]bool{}
	for _, p := range patients {
		t.Run(p.GivenName+" "+p.FamilyName, func(t *testing.T) {
			assert.True(t, hl7.ValidNHSNumber(p.NHSNumber), "NHS number %s", p.NHSNumber)
			assert.Equal(t, "999", p.NHSNumber[:3], "test range")
			assert.False(t, seen[p.NHSNumber], "NHS number %s used twice", p.NHSNumber)
			seen[p.NHSNumber] = true
			assert.NotEmpty(t, p.GivenName)
			assert.NotEmpty(t, p.FamilyName)
			assert.NotEmpty(t, p.CurrentODS)
			assert.NotEmpty(t, p.PreviousODS)
			assert.NotEqual(t, p.CurrentODS, p.PreviousODS)
			_, err := time.Parse(time.DateOnly, p.BirthDate)
			assert.NoError(t, err)
			assert.Contains(t, []string{"male", "female", "other", "unknown"}, p.Gender)
		})
	}
	assert.Equal(t, patients, practicesim.Patients(), "the same list every time")
}

package validation

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

const (
	private1 = "subnet-0aaaaaaaaaaaaaaa1"
	private2 = "subnet-0aaaaaaaaaaaaaaa2"
	public1  = "subnet-0bbbbbbbbbbbbbbb1"
	role     = "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole"
)

func facts() Facts {
	return Facts{Subnets: []cloud.Subnet{
		{ID: private1, Zone: "us-east-1a", CIDR: "10.0.0.0/20"},
		{ID: public1, Zone: "us-east-1a", CIDR: "10.0.16.0/20", Public: true},
		{ID: private2, Zone: "us-east-1b", CIDR: "10.0.32.0/20"},
	}}
}

// valid is a profile that breaks no rule; each case changes it.
func valid() *eksv1.FargateProfile {
	return &eksv1.FargateProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: eksv1.FargateProfileSpec{
			PodExecutionRoleArn: role,
			Subnets:             []string{private1, private2},
			Selectors:           []eksv1.FargateProfileSelector{{Namespace: "prod", Labels: map[string]string{"app": "web"}}},
			Tags:                map[string]string{"team": "web"},
		},
	}
}

func TestValidProfiles(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*eksv1.FargateProfile)
	}{
		{"as it is", func(*eksv1.FargateProfile) {}},
		{"no subnets: the private ones", func(fp *eksv1.FargateProfile) { fp.Spec.Subnets = nil }},
		{"a namespace-only selector", func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors = []eksv1.FargateProfileSelector{{Namespace: "kube-system"}}
		}},
		{"five selectors of five labels", func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors = nil
			for range 5 {
				fp.Spec.Selectors = append(fp.Spec.Selectors, eksv1.FargateProfileSelector{Namespace: "prod", Labels: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}})
			}
		}},
		{"wildcards everywhere", func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors = []eksv1.FargateProfileSelector{
				{Namespace: "prod-*", Labels: map[string]string{"k?": "v*", "*": "*", "app.kubernetes.io/*": "web-??"}},
				{Namespace: "*-dev", Labels: map[string]string{"*/name": "?"}},
				{Namespace: "?ab"},
				{Namespace: "*"},
				{Namespace: "a-*", Labels: map[string]string{"*.example.com/team": "*-blue"}},
			}
		}},
		{"a 63-character namespace pattern ending in *", func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors = []eksv1.FargateProfileSelector{{Namespace: strings.Repeat("n", 63) + "*"}}
		}},
		{"an empty label value", func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"canary": ""} }},
		{"a role with a path, in China", func(fp *eksv1.FargateProfile) {
			fp.Spec.PodExecutionRoleArn = "arn:aws-cn:iam::111122223333:role/eks/fargate/PodRole"
		}},
		{"a GovCloud role", func(fp *eksv1.FargateProfile) {
			fp.Spec.PodExecutionRoleArn = "arn:aws-us-gov:iam::111122223333:role/PodRole"
		}},
	} {
		fp := valid()
		c.change(fp)
		if errs := Validate(fp, facts()); len(errs) != 0 {
			t.Errorf("%s: %v", c.name, errs.ToAggregate())
		}
	}
	f := facts()
	f.Profiles = MaxProfiles - 1
	if errs := Validate(valid(), f); len(errs) != 0 {
		t.Errorf("the tenth profile: %v", errs.ToAggregate())
	}
}

// TestEachRule is the table of every rule: each case breaks one, and the
// error must be at its field and name the rule.
func TestEachRule(t *testing.T) {
	long := strings.Repeat("x", 64)
	for _, c := range []struct {
		name   string
		change func(*eksv1.FargateProfile)
		facts  func(*Facts)
		field  string
		detail string
	}{
		{name: "name with capitals", change: func(fp *eksv1.FargateProfile) { fp.Name = "Web" }, field: "metadata.name", detail: "fargateProfileName"},
		{name: "name too long", change: func(fp *eksv1.FargateProfile) { fp.Name = long }, field: "metadata.name", detail: "1-63 characters"},
		{name: "10 profiles already", facts: func(f *Facts) { f.Profiles = 10 }, field: "metadata.name", detail: "ResourceLimitExceeded: a cluster has at most 10 Fargate profiles (it has 10)"},
		{name: "one being deleted", facts: func(f *Facts) { f.Deleting = "old" }, field: "metadata.name", detail: `ResourceInUse: Fargate profile "old" is being deleted; no profile can be created until it is gone`},
		{name: "no role", change: func(fp *eksv1.FargateProfile) { fp.Spec.PodExecutionRoleArn = "" }, field: "spec.podExecutionRoleArn", detail: "needs a pod execution role"},
		{name: "role not an ARN", change: func(fp *eksv1.FargateProfile) { fp.Spec.PodExecutionRoleArn = "PodRole" }, field: "spec.podExecutionRoleArn", detail: "IAM role's ARN"},
		{name: "a user's ARN", change: func(fp *eksv1.FargateProfile) { fp.Spec.PodExecutionRoleArn = "arn:aws:iam::111122223333:user/me" }, field: "spec.podExecutionRoleArn", detail: "IAM role's ARN"},
		{name: "an 11-digit account", change: func(fp *eksv1.FargateProfile) { fp.Spec.PodExecutionRoleArn = "arn:aws:iam::11112222333:role/R" }, field: "spec.podExecutionRoleArn", detail: "12-digit account"},
		{name: "an unknown partition", change: func(fp *eksv1.FargateProfile) { fp.Spec.PodExecutionRoleArn = "arn:gcp:iam::111122223333:role/R" }, field: "spec.podExecutionRoleArn", detail: "IAM role's ARN"},
		{name: "unknown subnet", change: func(fp *eksv1.FargateProfile) { fp.Spec.Subnets = []string{private1, "subnet-0123456789abcdef0"} }, field: "spec.subnets[1]", detail: "unknown subnet subnet-0123456789abcdef0: not one of the cloud's subnets (see kdp sim subnets)"},
		{name: "public subnet", change: func(fp *eksv1.FargateProfile) { fp.Spec.Subnets = []string{public1} }, field: "spec.subnets[0]", detail: public1 + " is public: Fargate pods run only in private subnets (no route to an internet gateway)"},
		{name: "subnet twice", change: func(fp *eksv1.FargateProfile) { fp.Spec.Subnets = []string{private1, private2, private1} }, field: "spec.subnets[2]", detail: "named once"},
		{name: "no subnets and no private one", change: func(fp *eksv1.FargateProfile) { fp.Spec.Subnets = nil }, facts: func(f *Facts) { f.Subnets = f.Subnets[1:2] }, field: "spec.subnets", detail: "no private subnet"},
		{name: "no selectors", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors = nil }, field: "spec.selectors", detail: "1 to 5 selectors"},
		{name: "six selectors", change: func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors = make([]eksv1.FargateProfileSelector, 6)
			for i := range fp.Spec.Selectors {
				fp.Spec.Selectors[i].Namespace = "prod"
			}
		}, field: "spec.selectors", detail: "quota of selectors"},
		{name: "no namespace", change: func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors = append(fp.Spec.Selectors, eksv1.FargateProfileSelector{Labels: map[string]string{"app": "web"}})
		}, field: "spec.selectors[1].namespace", detail: "needs a namespace"},
		{name: "namespace with capitals", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Namespace = "Prod-*" }, field: "spec.selectors[0].namespace", detail: "namespace's name"},
		{name: "namespace with a dot", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Namespace = "prod.eu" }, field: "spec.selectors[0].namespace", detail: "namespace's name"},
		{name: "namespace that can only start with -", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Namespace = "-*" }, field: "spec.selectors[0].namespace", detail: "namespace's name"},
		{name: "namespace too long", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Namespace = long }, field: "spec.selectors[0].namespace", detail: "63"},
		{name: "namespace a regular expression", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Namespace = "prod-[a-z]+" }, field: "spec.selectors[0].namespace", detail: "wildcards"},
		{name: "six labels", change: func(fp *eksv1.FargateProfile) {
			fp.Spec.Selectors[0].Labels = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}
		}, field: "spec.selectors[0].labels", detail: "quota of labels per Fargate profile selector"},
		{name: "label key with a space", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"team name": "web"} }, field: "spec.selectors[0].labels[team name]", detail: "label key pattern"},
		{name: "label key empty", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"": "web"} }, field: "spec.selectors[0].labels[]", detail: "label key pattern"},
		{name: "label key with two slashes", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"a*/b/c": "web"} }, field: "spec.selectors[0].labels[a*/b/c]", detail: "label key pattern"},
		{name: "label key prefix not a DNS name", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"*_x/name": "web"} }, field: "spec.selectors[0].labels[*_x/name]", detail: "label key pattern"},
		{name: "label key name too long", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"?" + long: "web"} }, field: "spec.selectors[0].labels[?" + long + "]", detail: "label key pattern"},
		{name: "label value with a slash", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"app": "web/*"} }, field: "spec.selectors[0].labels[app]", detail: "label value pattern"},
		{name: "label value too long", change: func(fp *eksv1.FargateProfile) { fp.Spec.Selectors[0].Labels = map[string]string{"app": long} }, field: "spec.selectors[0].labels[app]", detail: "label value pattern"},
		{name: "51 tags", change: func(fp *eksv1.FargateProfile) {
			fp.Spec.Tags = map[string]string{}
			for i := range 51 {
				fp.Spec.Tags[strings.Repeat("t", i+1)] = "v"
			}
		}, field: "spec.tags", detail: "limit of tags"},
		{name: "tag key too long", change: func(fp *eksv1.FargateProfile) { fp.Spec.Tags = map[string]string{strings.Repeat("t", 129): "v"} }, field: "spec.tags[" + strings.Repeat("t", 129) + "]", detail: "1-128 characters"},
		{name: "tag key empty", change: func(fp *eksv1.FargateProfile) { fp.Spec.Tags = map[string]string{"": "v"} }, field: "spec.tags[]", detail: "1-128 characters"},
		{name: "tag value too long", change: func(fp *eksv1.FargateProfile) { fp.Spec.Tags = map[string]string{"team": strings.Repeat("v", 257)} }, field: "spec.tags[team]", detail: "at most 256 characters"},
		{name: "aws: tag", change: func(fp *eksv1.FargateProfile) { fp.Spec.Tags = map[string]string{"AWS:cost": "1"} }, field: "spec.tags[AWS:cost]", detail: "aws:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fp, f := valid(), facts()
			if c.change != nil {
				c.change(fp)
			}
			if c.facts != nil {
				c.facts(&f)
			}
			errs := Validate(fp, f)
			if len(errs) != 1 {
				t.Errorf("%d errors, want only the one for %s: %v", len(errs), c.field, errs.ToAggregate())
			}
			if !has(errs, c.field, c.detail) {
				t.Fatalf("no error for %s naming %q; got: %v", c.field, c.detail, errs.ToAggregate())
			}
		})
	}
}

// TestEveryProblemAtOnce: a profile breaking several rules gets all of
// them in one answer.
func TestEveryProblemAtOnce(t *testing.T) {
	fp := &eksv1.FargateProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: eksv1.FargateProfileSpec{
			Subnets: []string{public1, "subnet-nope"},
			Selectors: []eksv1.FargateProfileSelector{
				{Namespace: "prod"},
				{Labels: map[string]string{"bad key": "ok", "ok": "bad value!"}},
			},
			Tags: map[string]string{"aws:x": "y"},
		},
	}
	f := facts()
	f.Profiles, f.Deleting = 10, "old"
	errs := Validate(fp, f)
	for _, want := range []struct{ field, detail string }{
		{"metadata.name", "ResourceLimitExceeded"},
		{"metadata.name", "ResourceInUse"},
		{"spec.podExecutionRoleArn", "pod execution role"},
		{"spec.subnets[0]", "is public"},
		{"spec.subnets[1]", "unknown subnet"},
		{"spec.selectors[1].namespace", "needs a namespace"},
		{"spec.selectors[1].labels[bad key]", "label key pattern"},
		{"spec.selectors[1].labels[ok]", "label value pattern"},
		{"spec.tags[aws:x]", "aws:"},
	} {
		if !has(errs, want.field, want.detail) {
			t.Errorf("no error for %s naming %q", want.field, want.detail)
		}
	}
	if len(errs) != 9 {
		t.Errorf("%d errors, want 9: %v", len(errs), errs.ToAggregate())
	}
}

func has(errs field.ErrorList, path, detail string) bool {
	for _, e := range errs {
		if e.Field == path && strings.Contains(e.Error(), detail) {
			return true
		}
	}
	return false
}

package sim

import (
	"fmt"
	"maps"
	"regexp"
	"strconv"

	"github.com/kdp-project/kdp/internal/cloud"
)

// templateName is EC2's rule for launch template names.
var templateName = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

// maxUserData is EC2's limit on user data.
const maxUserData = 16 * 1024

// checkTemplateData checks what an instance launches with against the
// catalogue: the image (which a template may leave out, as EC2's may, but
// a launch may not), the type (if any) and that they fit each other.
func (c *Cloud) checkTemplateData(ps *cloud.Problems, d cloud.LaunchTemplateData, launch bool) {
	img, ok := c.catalog.Image(d.ImageID)
	switch {
	case d.ImageID == "" && launch:
		ps.Add("imageId", "is required (see kdp sim images)")
	case d.ImageID != "" && !ok:
		ps.Add("imageId", "unknown image %q (see kdp sim images)", d.ImageID)
	}
	if d.InstanceType == cloud.MicroVMType {
		if !launch {
			ps.Add("instanceType", "%s is the micro-VM type: only RunInstances launches it, with its size (microVm)", d.InstanceType)
		}
	} else if d.InstanceType != "" {
		t, known := c.catalog.InstanceType(d.InstanceType)
		switch {
		case !known:
			ps.Add("instanceType", "unknown instance type %q (see kdp sim instance-types)", d.InstanceType)
		case ok && t.Architecture != img.Architecture:
			ps.Add("instanceType", "%s is %s but image %s is %s", t.Name, t.Architecture, img.ID, img.Architecture)
		}
	}
	if len(d.UserData) > maxUserData {
		ps.Add("userData", "is %d bytes, more than EC2's limit of %d", len(d.UserData), maxUserData)
	}
	checkTags(ps, "instanceTags", d.InstanceTags)
}

// checkTags checks tags as EC2 does: at most 50, keys of 1–128 characters
// and values of at most 256, and no key in the aws: namespace.
func checkTags(ps *cloud.Problems, field string, tags map[string]string) {
	if len(tags) > 50 {
		ps.Add(field, "has %d tags, more than the limit of 50", len(tags))
	}
	for _, k := range sortedKeys(tags) {
		switch {
		case len(k) == 0 || len(k) > 128:
			ps.Add(field, "key %q must be 1–128 characters", k)
		case len(k) >= 4 && k[:4] == "aws:":
			ps.Add(field, "key %q: the aws: prefix is reserved for AWS", k)
		}
		if len(tags[k]) > 256 {
			ps.Add(field, "value of %q is %d characters, more than 256", k, len(tags[k]))
		}
	}
}

// findTemplate finds a template of the cluster by id or name.
func (c *Cloud) findTemplate(cluster string, ref cloud.TemplateRef) (*template, error) {
	var found *template
	if ref.ID != "" {
		found = c.st.templates[ref.ID]
	} else {
		for _, t := range c.st.templates {
			if t.Name == ref.Name {
				found = t
			}
		}
	}
	if found == nil || found.Cluster != cluster || (ref.ID != "" && ref.Name != "" && found.Name != ref.Name) {
		name := ref.Name
		if name == "" {
			name = ref.ID
		}
		return nil, &cloud.NotFoundError{Kind: "launch template", Name: name}
	}
	return found, nil
}

// resolveVersion finds a template's version: a number, $Latest or
// $Default (or empty).
func resolveVersion(t *template, version string) (cloud.LaunchTemplateVersion, error) {
	want := t.DefaultVersion
	switch version {
	case cloud.VersionDefault, "":
	case cloud.VersionLatest:
		want = t.latest()
	default:
		n, err := strconv.ParseInt(version, 10, 64)
		if err != nil || n < 1 {
			return cloud.LaunchTemplateVersion{}, fmt.Errorf("version %q must be a number, $Latest or $Default", version)
		}
		want = n
	}
	for _, v := range t.Versions {
		if v.Number == want {
			return v, nil
		}
	}
	return cloud.LaunchTemplateVersion{}, fmt.Errorf("launch template %s has no version %s", t.Name, version)
}

func (c *Cloud) createLaunchTemplate(tx *txn, cluster string, in cloud.LaunchTemplateInput) (*template, error) {
	var ps cloud.Problems
	if !templateName.MatchString(in.Name) {
		ps.Add("launchTemplateName", "%q must be 3–128 characters of letters, digits and ( ) . - / _", in.Name)
	}
	c.checkTemplateData(&ps, in.LaunchTemplateData, false)
	checkTags(&ps, "tags", in.Tags)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	for _, t := range c.st.templates {
		if t.Name == in.Name {
			return nil, &cloud.AlreadyExistsError{Kind: "launch template", Name: in.Name}
		}
	}
	data := in.LaunchTemplateData
	data.InstanceTags = maps.Clone(data.InstanceTags)
	t := &template{
		ID: tx.id("lt-", 17), Name: in.Name, Cluster: cluster, DefaultVersion: 1, Tags: maps.Clone(in.Tags), Created: tx.now.UTC(),
		Versions: []cloud.LaunchTemplateVersion{{Number: 1, LaunchTemplateData: data, CreateTime: tx.now.UTC()}},
	}
	c.st.templates[t.ID] = t
	tx.put(bucketTemplates, t.ID, t)
	return t, nil
}

func (c *Cloud) createLaunchTemplateVersion(tx *txn, cluster string, ref cloud.TemplateRef, in cloud.LaunchTemplateVersionInput) (cloud.LaunchTemplateVersion, error) {
	t, err := c.findTemplate(cluster, ref)
	if err != nil {
		return cloud.LaunchTemplateVersion{}, err
	}
	src, err := resolveVersion(t, in.SourceVersion)
	if err != nil {
		return cloud.LaunchTemplateVersion{}, cloud.Invalid("sourceVersion", "%v", err)
	}
	v := cloud.LaunchTemplateVersion{Number: t.latest() + 1, LaunchTemplateData: overlay(src.LaunchTemplateData, in.LaunchTemplateData),
		Description: in.Description, CreateTime: tx.now.UTC()}
	var ps cloud.Problems
	c.checkTemplateData(&ps, v.LaunchTemplateData, false)
	if err := ps.Err(); err != nil {
		return cloud.LaunchTemplateVersion{}, err
	}
	t.Versions = append(t.Versions, v)
	if in.MakeDefault {
		t.DefaultVersion = v.Number
	}
	tx.put(bucketTemplates, t.ID, t)
	return v, nil
}

func (c *Cloud) deleteLaunchTemplate(tx *txn, cluster string, ref cloud.TemplateRef) error {
	t, err := c.findTemplate(cluster, ref)
	if cloud.IsNotFound(err) {
		return nil
	}
	for _, name := range sortedKeys(c.st.groups) {
		if g := c.st.groups[name]; g.Template.ID == t.ID && !g.Deleting {
			return &cloud.ResourceInUseError{Kind: "launch template", Name: t.Name, Message: "auto scaling group " + g.Name + " launches from it"}
		}
	}
	// Instances launched from it keep their user data, as on EC2.
	for _, id := range sortedKeys(c.st.instances) {
		i := c.st.instances[id]
		if i.Template != nil && i.Template.ID == t.ID {
			n, _ := strconv.ParseInt(i.Template.Version, 10, 64)
			for _, v := range t.Versions {
				if v.Number == n {
					i.UserData = v.UserData
				}
			}
			tx.putInstance(i)
		}
	}
	delete(c.st.templates, t.ID)
	tx.del(bucketTemplates, t.ID)
	return nil
}

// overlay is base with the fields that over sets.
func overlay(base, over cloud.LaunchTemplateData) cloud.LaunchTemplateData {
	if over.ImageID != "" {
		base.ImageID = over.ImageID
	}
	if over.InstanceType != "" {
		base.InstanceType = over.InstanceType
	}
	if over.UserData != "" {
		base.UserData = over.UserData
	}
	if over.InstanceTags != nil {
		base.InstanceTags = maps.Clone(over.InstanceTags)
	}
	return base
}

// userData is what an instance was launched with.
func (c *Cloud) userData(i *instance) string {
	if i.Template == nil {
		return i.UserData
	}
	t := c.st.templates[i.Template.ID]
	if t == nil {
		return i.UserData
	}
	v, err := resolveVersion(t, i.Template.Version)
	if err != nil {
		return i.UserData
	}
	return v.UserData
}

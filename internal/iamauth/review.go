package iamauth

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Mapper is who an IAM identity is in a cluster: ok is false when it has
// no access there.
type Mapper interface {
	Map(cluster string, id Identity) (user authnv1.UserInfo, ok bool)
}

// NewTokenReviewHandler answers the TokenReviews
// (authentication.k8s.io/v1) a cluster's API server posts with the bearer
// tokens it gets: the token is verified for the cluster named by the
// request's path value "cluster" (register it as
// mux.Handle("POST /PREFIX/{cluster}", h)), and its identity mapped. A
// refused token is authenticated: false, with the reason in status.error
// (which the API server logs).
func NewTokenReviewHandler(v *TokenVerifier, m Mapper, log logr.Logger) http.Handler {
	return &reviewHandler{v: v, m: m, log: log}
}

type reviewHandler struct {
	v   *TokenVerifier
	m   Mapper
	log logr.Logger
}

func (h *reviewHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cluster := r.PathValue("cluster")
	review := &authnv1.TokenReview{}
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err == nil {
		err = json.Unmarshal(data, review)
	}
	if err != nil || cluster == "" {
		http.Error(w, "a TokenReview (authentication.k8s.io/v1) is expected, posted to .../CLUSTER", http.StatusBadRequest)
		return
	}
	status := authnv1.TokenReviewStatus{}
	id, err := h.v.Verify(review.Spec.Token, cluster)
	switch {
	case err != nil:
		status.Error = err.Error()
		h.log.V(1).Info("refused a token", "cluster", cluster, "reason", err.Error())
	default:
		user, ok := h.m.Map(cluster, id)
		if !ok {
			status.Error = "the principal " + id.CanonicalARN + " has no access entry in cluster " + cluster + " (aws eks create-access-entry)"
			h.log.V(1).Info("a token of a principal without access", "cluster", cluster, "arn", id.ARN)
			break
		}
		if user.Extra == nil {
			user.Extra = map[string]authnv1.ExtraValue{}
		}
		user.Extra["arn"] = authnv1.ExtraValue{id.ARN}
		user.Extra["canonicalArn"] = authnv1.ExtraValue{id.CanonicalARN}
		user.Extra["accessKeyId"] = authnv1.ExtraValue{id.AccessKeyID}
		user.Extra["principalId"] = authnv1.ExtraValue{id.UserID}
		if id.SessionName != "" {
			user.Extra["sessionName"] = authnv1.ExtraValue{id.SessionName}
		}
		// Audiences are left out: the token is an IAM identity's, for any
		// audience (as aws-iam-authenticator answers).
		status.Authenticated, status.User = true, user
	}
	out := authnv1.TokenReview{TypeMeta: review.TypeMeta, Status: status}
	if out.APIVersion == "" {
		out.APIVersion, out.Kind = authnv1.SchemeGroupVersion.String(), "TokenReview"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// WriteWebhookKubeconfig writes the kubeconfig of a kube-apiserver's
// token authentication webhook
// (--authentication-token-webhook-config-file): its server is url, the
// TokenReview endpoint, trusted with caPEM (https) or none (http).
func WriteWebhookKubeconfig(path, serverURL string, caPEM []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kdp"] = &clientcmdapi.Cluster{Server: serverURL, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["kube-apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "kdp", AuthInfo: "kube-apiserver"}
	cfg.CurrentContext = "webhook"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*cfg, path)
}

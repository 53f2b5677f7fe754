package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

const cfNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// CloudFront fakes Amazon CloudFront (restXml, API 2020-05-31): GetDistribution,
// GetDistributionConfig, UpdateDistribution (If-Match ETag, 412 on a stale one),
// CreateInvalidation (idempotent per CallerReference) and GetInvalidation. A
// changed distribution is InProgress for DeployPolls GetDistribution calls, and
// an invalidation InProgress for InvalidationPolls GetInvalidation calls.
type CloudFront struct {
	mu    sync.Mutex
	dists map[string]*cfDist
	// DeployPolls and InvalidationPolls are how many polls see InProgress (default 1 each).
	DeployPolls, InvalidationPolls int
	// StuckInvalidations keeps every invalidation InProgress forever.
	StuckInvalidations bool
	seq                int
}

type cfDist struct {
	id, etag    string
	version     int
	config      cfDistributionConfig
	pendingPoll int
	modified    time.Time
	invals      []*cfInvalidation
}

type cfInvalidation struct {
	id, ref     string
	paths       []string
	created     time.Time
	pendingPoll int
}

type cfDistributionConfig struct {
	XMLName              xml.Name        `xml:"DistributionConfig"`
	Xmlns                string          `xml:"xmlns,attr,omitempty"`
	CallerReference      string          `xml:"CallerReference"`
	DefaultRootObject    string          `xml:"DefaultRootObject,omitempty"`
	Origins              cfOrigins       `xml:"Origins"`
	DefaultCacheBehavior cfCacheBehavior `xml:"DefaultCacheBehavior"`
	Comment              string          `xml:"Comment"`
	Enabled              bool            `xml:"Enabled"`
}

type cfOrigins struct {
	Quantity int        `xml:"Quantity"`
	Items    []cfOrigin `xml:"Items>Origin"`
}

type cfOrigin struct {
	ID             string `xml:"Id"`
	DomainName     string `xml:"DomainName"`
	OriginPath     string `xml:"OriginPath"`
	S3OriginConfig *struct {
		OriginAccessIdentity string `xml:"OriginAccessIdentity"`
	} `xml:"S3OriginConfig,omitempty"`
}

type cfCacheBehavior struct {
	TargetOriginID       string `xml:"TargetOriginId"`
	ViewerProtocolPolicy string `xml:"ViewerProtocolPolicy"`
	CachePolicyID        string `xml:"CachePolicyId,omitempty"`
}

func newCloudFront() *CloudFront {
	return &CloudFront{dists: map[string]*cfDist{}, DeployPolls: 1, InvalidationPolls: 1}
}

// AddDistribution creates a deployed distribution with one S3 origin for bucket at originPath.
func (c *CloudFront) AddDistribution(id, bucket, originPath string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	origin := cfOrigin{ID: "s3-" + bucket, DomainName: bucket + ".s3.us-east-1.amazonaws.com", OriginPath: originPath}
	origin.S3OriginConfig = &struct {
		OriginAccessIdentity string `xml:"OriginAccessIdentity"`
	}{}
	c.dists[id] = &cfDist{id: id, version: 1, etag: "E1" + id, modified: time.Now(), config: cfDistributionConfig{
		CallerReference: "created-by-test", DefaultRootObject: "index.html", Comment: "portal SPA", Enabled: true,
		Origins:              cfOrigins{Quantity: 1, Items: []cfOrigin{origin}},
		DefaultCacheBehavior: cfCacheBehavior{TargetOriginID: origin.ID, ViewerProtocolPolicy: "redirect-to-https", CachePolicyID: "658327ea-f89d-4fab-a63d-7e88639e58f6"},
	}}
}

// OriginPath is the origin path of distribution id's first origin.
func (c *CloudFront) OriginPath(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.dists[id]; d != nil && len(d.config.Origins.Items) > 0 {
		return d.config.Origins.Items[0].OriginPath
	}
	return ""
}

// Invalidations lists the paths of each invalidation of distribution id, oldest first.
func (c *CloudFront) Invalidations(id string) [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]string
	if d := c.dists[id]; d != nil {
		for _, inv := range d.invals {
			out = append(out, inv.paths)
		}
	}
	return out
}

func (c *CloudFront) operation(r *http.Request, _ []byte) string {
	p := strings.TrimPrefix(r.URL.Path, "/2020-05-31/distribution/")
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		return "GetDistribution"
	case len(parts) == 2 && parts[1] == "config" && r.Method == http.MethodGet:
		return "GetDistributionConfig"
	case len(parts) == 2 && parts[1] == "config" && r.Method == http.MethodPut:
		return "UpdateDistribution"
	case len(parts) == 2 && parts[1] == "invalidation" && r.Method == http.MethodPost:
		return "CreateInvalidation"
	case len(parts) == 3 && parts[1] == "invalidation" && r.Method == http.MethodGet:
		return "GetInvalidation"
	}
	return r.Method + " " + r.URL.Path
}

func (c *CloudFront) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
		cfNS, xmlEscape(code), xmlEscape(msg))
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

type cfDistributionXML struct {
	XMLName                       xml.Name             `xml:"Distribution"`
	Xmlns                         string               `xml:"xmlns,attr"`
	ID                            string               `xml:"Id"`
	ARN                           string               `xml:"ARN"`
	Status                        string               `xml:"Status"`
	LastModifiedTime              string               `xml:"LastModifiedTime"`
	InProgressInvalidationBatches int                  `xml:"InProgressInvalidationBatches"`
	DomainName                    string               `xml:"DomainName"`
	DistributionConfig            cfDistributionConfig `xml:"DistributionConfig"`
}

type cfInvalidationXML struct {
	XMLName           xml.Name `xml:"Invalidation"`
	Xmlns             string   `xml:"xmlns,attr"`
	ID                string   `xml:"Id"`
	Status            string   `xml:"Status"`
	CreateTime        string   `xml:"CreateTime"`
	InvalidationBatch struct {
		Paths struct {
			Quantity int      `xml:"Quantity"`
			Items    []string `xml:"Items>Path"`
		} `xml:"Paths"`
		CallerReference string `xml:"CallerReference"`
	} `xml:"InvalidationBatch"`
}

func (c *CloudFront) serve(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/2020-05-31/distribution/"), "/")
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dists[parts[0]]
	if d == nil {
		c.writeError(w, 404, "NoSuchDistribution", "The specified distribution does not exist.")
		return
	}
	switch op {
	case "GetDistribution":
		status := "Deployed"
		if d.pendingPoll > 0 {
			d.pendingPoll--
			status = "InProgress"
		}
		w.Header().Set("ETag", d.etag)
		writeXML(w, 200, c.distXML(d, status))
	case "GetDistributionConfig":
		w.Header().Set("ETag", d.etag)
		cfg := d.config
		cfg.Xmlns = cfNS
		writeXML(w, 200, cfg)
	case "UpdateDistribution":
		if r.Header.Get("If-Match") != d.etag {
			c.writeError(w, 412, "PreconditionFailed", "The If-Match version is missing or not valid for the resource.")
			return
		}
		var cfg cfDistributionConfig
		if err := xml.Unmarshal(body, &cfg); err != nil {
			c.writeError(w, 400, "MalformedXML", err.Error())
			return
		}
		if cfg.CallerReference != d.config.CallerReference {
			c.writeError(w, 400, "IllegalUpdate", "CallerReference cannot be changed.")
			return
		}
		for _, o := range cfg.Origins.Items {
			if o.OriginPath != "" && (!strings.HasPrefix(o.OriginPath, "/") || strings.HasSuffix(o.OriginPath, "/")) {
				c.writeError(w, 400, "InvalidArgument", "The parameter origin path must begin with a slash and must not end with a slash.")
				return
			}
		}
		cfg.Xmlns = ""
		d.config = cfg
		d.version++
		d.etag = fmt.Sprintf("E%d%s", d.version, d.id)
		d.pendingPoll = c.DeployPolls
		d.modified = time.Now()
		w.Header().Set("ETag", d.etag)
		writeXML(w, 200, c.distXML(d, "InProgress"))
	case "CreateInvalidation":
		var batch struct {
			Paths struct {
				Items []string `xml:"Items>Path"`
			} `xml:"Paths"`
			CallerReference string `xml:"CallerReference"`
		}
		if err := xml.Unmarshal(body, &batch); err != nil {
			c.writeError(w, 400, "MalformedXML", err.Error())
			return
		}
		for _, inv := range d.invals {
			if inv.ref == batch.CallerReference {
				if strings.Join(inv.paths, "\n") != strings.Join(batch.Paths.Items, "\n") {
					c.writeError(w, 400, "InvalidationBatchAlreadyExists", "A different invalidation batch with the same caller reference exists.")
					return
				}
				w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+d.id+"/invalidation/"+inv.id)
				writeXML(w, 201, c.invalXML(inv))
				return
			}
		}
		c.seq++
		inv := &cfInvalidation{id: fmt.Sprintf("I%06dFAKE", c.seq), ref: batch.CallerReference, paths: batch.Paths.Items, created: time.Now(), pendingPoll: c.InvalidationPolls}
		d.invals = append(d.invals, inv)
		w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+d.id+"/invalidation/"+inv.id)
		writeXML(w, 201, c.invalXML(inv))
	case "GetInvalidation":
		for _, inv := range d.invals {
			if inv.id == parts[2] {
				if inv.pendingPoll > 0 && !c.StuckInvalidations {
					inv.pendingPoll--
				}
				writeXML(w, 200, c.invalXML(inv))
				return
			}
		}
		c.writeError(w, 404, "NoSuchInvalidation", "The specified invalidation does not exist.")
	default:
		c.writeError(w, 400, "InvalidAction", "awsfake CloudFront does not implement "+op)
	}
}

func (c *CloudFront) distXML(d *cfDist, status string) cfDistributionXML {
	cfg := d.config
	cfg.XMLName = xml.Name{Local: "DistributionConfig"}
	pending := 0
	for _, inv := range d.invals {
		if inv.pendingPoll > 0 || c.StuckInvalidations {
			pending++
		}
	}
	return cfDistributionXML{Xmlns: cfNS, ID: d.id, ARN: fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", Account, d.id),
		Status: status, LastModifiedTime: d.modified.UTC().Format(time.RFC3339), InProgressInvalidationBatches: pending,
		DomainName: strings.ToLower(d.id) + ".cloudfront.net", DistributionConfig: cfg}
}

func (c *CloudFront) invalXML(inv *cfInvalidation) cfInvalidationXML {
	out := cfInvalidationXML{Xmlns: cfNS, ID: inv.id, Status: "Completed", CreateTime: inv.created.UTC().Format(time.RFC3339)}
	if inv.pendingPoll > 0 || c.StuckInvalidations {
		out.Status = "InProgress"
	}
	out.InvalidationBatch.Paths.Quantity = len(inv.paths)
	out.InvalidationBatch.Paths.Items = inv.paths
	out.InvalidationBatch.CallerReference = inv.ref
	return out
}

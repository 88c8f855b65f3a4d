package main

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// floor is the baselines' server: bare Gin routes with no middleware.
//
//   - GET /floor/availability?<query> serves the body the real server gave
//     for that query, as fixed bytes, with its ETag; a matching
//     If-None-Match gets 304. This is the HTTP floor: what serving those
//     bytes costs with Gin, net/http and this client, and nothing else.
//   - POST /floor/write reads the body and inserts it into a scratch table
//     in one GORM transaction, then answers 201. This is the write floor: one
//     plain transactional insert into the same database through the same
//     client.
type floor struct {
	mu     sync.RWMutex
	bodies map[string]fixedBody // by raw query
	db     *gorm.DB
}

type fixedBody struct {
	body []byte
	etag string
}

func (f *floor) set(rawQuery string, body []byte, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[rawQuery] = fixedBody{body, etag}
}

func (f *floor) handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/floor/availability", func(c *gin.Context) {
		f.mu.RLock()
		b, ok := f.bodies[c.Request.URL.RawQuery]
		f.mu.RUnlock()
		if !ok {
			c.Status(http.StatusNotFound)
			return
		}
		if b.etag != "" {
			c.Header("ETag", b.etag)
			c.Header("Cache-Control", "public, no-cache")
		}
		if b.etag != "" && c.GetHeader("If-None-Match") == b.etag {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", b.body)
	})
	r.POST("/floor/write", func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		row := scratchRow{ID: uuid.NewString(), Payload: string(body), At: time.Now().UnixNano()}
		err = f.db.WithContext(c.Request.Context()).Transaction(func(tx *gorm.DB) error {
			return tx.Create(&row).Error
		})
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Header("Location", "/floor/write/"+row.ID)
		c.Data(http.StatusCreated, "application/json; charset=utf-8", []byte(`{"id":`+strconv.Quote(row.ID)+`}`))
	})
	return r
}

package mongo

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// poolCodeDoc is one code of a pool of codes. key is the code in lower case: one code whatever
// its case, as when it is read aloud. claimed is a hint for NextCode, set once the step that
// handed the code out is written; the claim document (codeClaimDoc) is what decides.
type poolCodeDoc struct {
	Campaign string `bson:"campaign"`
	Pool     string `bson:"pool"`
	Key      string `bson:"key"`
	Code     string `bson:"code"`
	Seq      int64  `bson:"seq"`
	Claimed  bool   `bson:"claimed"`
}

// codeClaimDoc is a code handed out. Handing out is an insert under a unique index on (campaign,
// pool, key), the one write that is atomic on every server this store runs on (FerretDB v1's
// conditional updates read, then write), so two processes can never hand out one code. t is
// the token of the step that claimed it, as for places.
type codeClaimDoc struct {
	Campaign      string `bson:"campaign"`
	Pool          string `bson:"pool"`
	Key           string `bson:"key"`
	Code          string `bson:"code"`
	ParticipantID string `bson:"participant_id"`
	Token         string `bson:"t"`
	At            int64  `bson:"at"`
	Confirmed     bool   `bson:"confirmed"`
}

// claimRef names one code a step claimed.
type claimRef struct {
	Campaign string `bson:"campaign"`
	Pool     string `bson:"pool"`
	Key      string `bson:"key"`
}

func codeKey(code string) string { return strings.ToLower(strings.TrimSpace(code)) }

// AddCodes adds codes to a pool after the ones it has; codes it has are left as they are. The
// codes the pool has are read first, so loading an unchanged file at a start writes nothing.
func (db *DB) AddCodes(ctx context.Context, campaign, pool string, codes []string) (int, error) {
	filter := d("campaign", campaign, "pool", pool)
	var have []poolCodeDoc
	err := find(ctx, db.c(colPoolCodes), filter, options.Find().SetProjection(d("key", 1, "seq", 1)), &have)
	if err != nil {
		return 0, fmt.Errorf("mongo: add codes to %s/%s: %w", campaign, pool, err)
	}
	known := make(map[string]bool, len(have))
	var seq int64
	for _, c := range have {
		known[c.Key] = true
		seq = max(seq, c.Seq)
	}
	var docs []any
	for _, code := range codes {
		code = strings.TrimSpace(code)
		if code == "" || known[codeKey(code)] {
			continue
		}
		known[codeKey(code)] = true
		seq++
		docs = append(docs, poolCodeDoc{Campaign: campaign, Pool: pool, Key: codeKey(code), Code: code, Seq: seq})
	}
	// Another process loading the same file at the same time inserts the same codes: the
	// unique index keeps one of each, and insertAll takes the duplicates as done.
	for i := 0; i < len(docs); i += 1000 {
		if err := insertAll(ctx, db.c(colPoolCodes), docs[i:min(i+1000, len(docs))]); err != nil {
			return 0, fmt.Errorf("mongo: add codes to %s/%s: %w", campaign, pool, convert(err))
		}
	}
	return len(docs), nil
}

// NextCode returns the first code of the pool, in the order added, that nobody was handed.
func (db *DB) NextCode(ctx context.Context, campaign, pool string) (string, error) {
	for range 1000 {
		var c poolCodeDoc
		err := db.c(colPoolCodes).FindOne(ctx, d("campaign", campaign, "pool", pool, "claimed", false),
			options.FindOne().SetSort(d("seq", 1))).Decode(&c)
		if errIsNotFound(err) {
			return "", fmt.Errorf("mongo: pool %s/%s: no code left: %w", campaign, pool, errs.ErrNotFound)
		}
		if err != nil {
			return "", fmt.Errorf("mongo: next code of %s/%s: %w", campaign, pool, convert(err))
		}
		// The hint is set after the claim; a writer that died between the two left it unset.
		n, err := db.c(colCodeClaims).CountDocuments(ctx, d("campaign", campaign, "pool", pool, "key", c.Key))
		if err != nil {
			return "", fmt.Errorf("mongo: next code of %s/%s: %w", campaign, pool, convert(err))
		}
		if n == 0 {
			return c.Code, nil
		}
		if err := db.markClaimed(ctx, campaign, pool, c.Key); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("mongo: next code of %s/%s: %w: codes keep being handed out under it", campaign, pool, errs.ErrConflict)
}

func (db *DB) markClaimed(ctx context.Context, campaign, pool, key string) error {
	_, err := db.c(colPoolCodes).UpdateOne(ctx, d("campaign", campaign, "pool", pool, "key", key),
		d("$set", d("claimed", true)))
	if err != nil {
		return fmt.Errorf("mongo: code of %s/%s: %w", campaign, pool, convert(err))
	}
	return nil
}

// CodesLeft returns how many codes of the pool nobody was handed, and how many it has; a code
// held by a step still being written counts as handed out.
func (db *DB) CodesLeft(ctx context.Context, campaign, pool string) (left, total int, err error) {
	filter := d("campaign", campaign, "pool", pool)
	all, err := db.c(colPoolCodes).CountDocuments(ctx, filter)
	if err != nil {
		return 0, 0, fmt.Errorf("mongo: codes left in %s/%s: %w", campaign, pool, convert(err))
	}
	claimed, err := db.c(colCodeClaims).CountDocuments(ctx, filter)
	if err != nil {
		return 0, 0, fmt.Errorf("mongo: codes left in %s/%s: %w", campaign, pool, convert(err))
	}
	return int(max(0, all-claimed)), int(all), nil
}

// claimCodes hands each code of claims to the participant, or fails with
// engine.ErrCodeClaimed for one handed out before.
func (db *DB) claimCodes(ctx context.Context, participantID string, claims []engine.CodeClaim, st *stepDoc) error {
	for _, c := range claims {
		key := codeKey(c.Code)
		_, err := db.c(colCodeClaims).InsertOne(ctx, codeClaimDoc{Campaign: c.Campaign, Pool: c.Pool,
			Key: key, Code: c.Code, ParticipantID: participantID, Token: st.T, At: st.At})
		if mongo.IsDuplicateKeyError(err) {
			// Whoever has it may not have set the hint yet; the next NextCode need not ask.
			_ = db.markClaimed(context.WithoutCancel(ctx), c.Campaign, c.Pool, key)
			return fmt.Errorf("code %s of pool %s: %w", c.Code, c.Pool, engine.ErrCodeClaimed)
		}
		if err != nil {
			return fmt.Errorf("claim code of %s: %w", c.Pool, err)
		}
		st.Claims = append(st.Claims, claimRef{Campaign: c.Campaign, Pool: c.Pool, Key: key})
	}
	return nil
}

// confirmClaims marks a committed step's codes handed out for good (idempotent).
func (db *DB) confirmClaims(ctx context.Context, st *stepDoc) error {
	for _, c := range st.Claims {
		_, err := db.c(colCodeClaims).UpdateOne(ctx, d("campaign", c.Campaign, "pool", c.Pool, "key", c.Key, "t", st.T),
			d("$set", d("confirmed", true)))
		if err != nil {
			return fmt.Errorf("confirm code of %s: %w", c.Pool, err)
		}
		if err := db.markClaimed(ctx, c.Campaign, c.Pool, c.Key); err != nil {
			return err
		}
	}
	return nil
}

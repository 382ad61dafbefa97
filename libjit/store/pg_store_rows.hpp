// SPDX-License-Identifier: Apache-2.0
// How the PostgreSQL store maps the model onto its tables: the upsert statements with their
// parameters, and the loaders that read every table back. A column added to the model is
// added here (and as a migration step in pg_schema.hpp).
#pragma once

#include <vector>

#include "jit/model.hpp"
#include "pg_db.hpp"

namespace jit::pg_rows {

// Requests, grants and sessions: a new object (id 0, bound as NULL) gets the highest id + 1,
// as SQLite's INTEGER PRIMARY KEY does (safe because writers hold the chain head lock); a
// known one is upserted under its id. Each returns the id.
extern const char* const kPutResource;
extern const char* const kPutPolicy;
extern const char* const kPutRequest;
extern const char* const kPutGrant;
extern const char* const kPutSession;
extern const char* const kPutReview;

pg::Params resource_params(const Resource& resource);
pg::Params policy_params(const Policy& policy);
pg::Params request_params(const Request& request);
pg::Params grant_params(const Grant& grant);
pg::Params session_params(const Session& session);
pg::Params review_params(const StoredReview& review);

std::vector<Resource> load_resources(pg::Connection& connection);
std::vector<Policy> load_policies(pg::Connection& connection);
std::vector<Request> load_requests(pg::Connection& connection);
std::vector<Grant> load_grants(pg::Connection& connection);
std::vector<Session> load_sessions(pg::Connection& connection);
std::vector<SshKey> load_keys(pg::Connection& connection);
std::vector<StoredReview> load_reviews(pg::Connection& connection);

}  // namespace jit::pg_rows

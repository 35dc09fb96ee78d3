// Publish: the marts (and raw tables) from the lakehouse into PostgreSQL for the applications that serve them.
export { runPublish, type PublishInput, type PublishResult, type PublishedTable, type PublishEvent, type PublishMode } from './publish.js';
export { resolvePublishTarget, redactUrl, PublishError, DEFAULT_PUBLISH_SCHEMA, type PublishTarget } from './target.js';
export { SERVING_QUERIES, SERVING_INDEXES, type ServingQuery } from './serving.js';

-- The results store's DDL as evalkit schema version 1 wrote it (kept verbatim for the migration test).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    name TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    evalkit_version TEXT, lm_eval_version TEXT, transformers_version TEXT, torch_version TEXT,
    git_commit TEXT, host TEXT, command TEXT, seed INTEGER, config_json TEXT
);
CREATE TABLE IF NOT EXISTS cells (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    cell_id TEXT NOT NULL,
    model TEXT NOT NULL,
    model_spec_json TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    adapter TEXT,
    task TEXT NOT NULL,
    task_config_hash TEXT NOT NULL,
    task_source TEXT,
    setting TEXT NOT NULL,
    num_fewshot INTEGER NOT NULL,
    n INTEGER NOT NULL,
    duration_s REAL,
    details_json TEXT,
    PRIMARY KEY (run_id, cell_id)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, cell_id TEXT NOT NULL,
    model TEXT NOT NULL, task TEXT NOT NULL, setting TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL, stderr REAL, ci_low REAL, ci_high REAL,
    n INTEGER NOT NULL, higher_is_better INTEGER NOT NULL,
    PRIMARY KEY (run_id, cell_id, metric),
    FOREIGN KEY (run_id, cell_id) REFERENCES cells(run_id, cell_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL, cell_id TEXT NOT NULL,
    doc_id INTEGER NOT NULL, doc_hash TEXT NOT NULL, prompt_hash TEXT NOT NULL,
    prompt TEXT, target TEXT, prediction TEXT,
    scores_json TEXT NOT NULL, outputs_json TEXT,
    PRIMARY KEY (run_id, cell_id, doc_id),
    FOREIGN KEY (run_id, cell_id) REFERENCES cells(run_id, cell_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS metrics_by_task ON metrics(task, metric);

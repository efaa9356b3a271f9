-- Up Migration
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);
-- Down Migration
DROP TABLE items;

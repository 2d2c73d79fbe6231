-- ALTER EXTENSION UPDATE from 0.1.0 gives the same objects as a fresh CREATE
-- EXTENSION of the default version: every member's definition, privileges and
-- comment, and the tables pg_dump dumps.
CREATE TEMP VIEW extension_objects AS
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
       coalesce(pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '-'),
                c.relkind::text || ' acl ' || coalesce(c.relacl::text, '-')
                  || ' columns ' || (SELECT string_agg(format('%s %s%s%s', a.attname,
                                                              format_type(a.atttypid, a.atttypmod),
                                                              CASE WHEN a.attnotnull THEN ' not null' END,
                                                              ' default ' || pg_get_expr(ad.adbin, ad.adrelid)),
                                                       ', ' ORDER BY a.attnum)
                                       FROM pg_attribute a
                                       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
                  || ' constraints ' || coalesce((SELECT string_agg(con.conname || ' ' || pg_get_constraintdef(con.oid), ', '
                                                                    ORDER BY con.conname)
                                                    FROM pg_constraint con WHERE con.conrelid = c.oid), '-')
                  || ' indexes ' || coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), ', '
                                                                ORDER BY i.indexrelid::regclass::text)
                                                FROM pg_index i WHERE i.indrelid = c.oid), '-'),
                '') AS definition,
       obj_description(d.objid, d.classid::regclass::name) AS comment
  FROM pg_depend d
  LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
  LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'convoy_backup')
   -- A table's row type and its array type are members of their own on
   -- PostgreSQL 17 and 18 (not 15); they come and go with the table.
   AND NOT EXISTS (SELECT FROM pg_type t
                      LEFT JOIN pg_type e ON e.oid = t.typelem
                      JOIN pg_class r ON r.oid IN (t.typrelid, e.typrelid)
                    WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid
                      AND r.relkind <> 'c')
UNION ALL
SELECT 'extension convoy_backup', extversion || ' dumps ' || extconfig::regclass[]::text
                                  || ' ' || extcondition::text, NULL
  FROM pg_extension WHERE extname = 'convoy_backup'
UNION ALL
SELECT 'schema convoy_backup', 'acl ' || nspacl::text, obj_description(oid, 'pg_namespace')
  FROM pg_namespace WHERE nspname = 'convoy_backup';

CREATE EXTENSION convoy_backup VERSION '0.1.0';
ALTER EXTENSION convoy_backup UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'convoy_backup';
CREATE TEMP TABLE updated AS SELECT * FROM extension_objects;
DROP EXTENSION convoy_backup;
CREATE EXTENSION convoy_backup;
SELECT extversion FROM pg_extension WHERE extname = 'convoy_backup';
CREATE TEMP TABLE fresh AS SELECT * FROM extension_objects;

-- The objects of the default version, and whatever differs after the update.
SELECT object, definition <> '' AS defined, comment FROM fresh ORDER BY object;
SELECT 'only after the update' AS how, * FROM (TABLE updated EXCEPT TABLE fresh) u
UNION ALL
SELECT 'only when fresh', * FROM (TABLE fresh EXCEPT TABLE updated) f;
-- The SECURITY DEFINER functions pin search_path.
SELECT proname, prosecdef, proconfig FROM pg_proc
 WHERE pronamespace = 'convoy_backup'::regnamespace ORDER BY proname;
DROP EXTENSION convoy_backup;

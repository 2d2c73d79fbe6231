-- Numbers: integers at their limits, floats and numerics with their
-- special values (NaN and infinities become strings, as in to_jsonb), money.
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/parity_setup.psql
CREATE TABLE parity.numbers (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, f4 float4,
                             f8 float8, n numeric, m money, na numeric[]);
INSERT INTO parity.numbers VALUES
    (1, 32767, -2147483648, 9223372036854775807, 1.5, 3.141592653589793, 12345.678900,
     '12.34', '{1.5, NaN, -0, 1e+30}'),
    (2, -32768, 2147483647, -9223372036854775808, 'NaN', 'Infinity', 'NaN', '-0.01',
     '{NaN, Infinity, -Infinity}'),
    (3, 0, 0, 0, '-Infinity', '-0', '-Infinity', '0', '{}'),
    (4, NULL, NULL, NULL, 1e-38, 1e+300,
     '123456789012345678901234567890.123456789012345678901234567890', NULL, NULL);
\set parity_table parity.numbers
\i :abs_srcdir/sql/include/parity_check.psql

-- Nexmark q1: currency conversion (dollars to euros). Same statement as
-- bench/nexmark/README.md; `dateTime` is back-quoted (reserved word in Flink 2.3).
SELECT auction, bidder, 0.908 * price AS price, `dateTime`, extra FROM bid

-- Nexmark q7, highest bid, TopN formulation (same statement as bench/nexmark/README.md):
-- the highest bid (auction, bidder, price) of each 10 s tumbling window. The original q7
-- joins the bids with their per-window MAX(price); weir has no joins yet, so this is a
-- window aggregation followed by a per-window TopN. `dateTime` is back-quoted (reserved
-- word in Flink 2.3).
SELECT auction, bidder, price, window_start, window_end
FROM (
    SELECT auction, bidder, price, window_start, window_end,
           ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC, auction ASC, bidder ASC) AS rownum
    FROM (
        SELECT auction, bidder, MAX(price) AS price, window_start, window_end
        FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
        GROUP BY auction, bidder, window_start, window_end
    )
)
WHERE rownum <= 1

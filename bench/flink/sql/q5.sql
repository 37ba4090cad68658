-- Nexmark q5, hot items, TopN formulation (same statement as bench/nexmark/README.md):
-- the auction with the most bids in each 10 s window sliding every 2 s. The original q5
-- joins the per-window counts with their per-window maximum; weir has no joins yet, so
-- this is a per-window TopN. `dateTime` is back-quoted (reserved word in Flink 2.3).
SELECT auction, num, window_start, window_end
FROM (
    SELECT auction, num, window_start, window_end,
           ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY num DESC, auction ASC) AS rownum
    FROM (
        SELECT auction, COUNT(*) AS num, window_start, window_end
        FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        GROUP BY auction, window_start, window_end
    )
)
WHERE rownum <= 1

//! OpenCV's `groupRectangles`: cluster similar raw detections, average each cluster, drop
//! clusters with too few members and small clusters inside bigger, stronger ones.

use super::Rect;

/// Groups `rects`; a cluster survives when it has more than `min_neighbors` members. `eps`
/// is OpenCV's relative tolerance (0.2 in `detectMultiScale`).
pub fn group_rectangles(rects: &[Rect], min_neighbors: usize, eps: f64) -> Vec<Rect> {
    if min_neighbors == 0 {
        return rects.to_vec();
    }
    let mut parent: Vec<usize> = (0..rects.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..rects.len() {
        for j in 0..i {
            if similar(&rects[i], &rects[j], eps) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    // Sum per cluster, in first-seen order.
    let mut clusters: Vec<(usize, [i64; 4], usize)> = Vec::new();
    for (i, rect) in rects.iter().enumerate() {
        let label = root(&mut parent, i);
        let slot = match clusters.iter().position(|(l, _, _)| *l == label) {
            Some(slot) => slot,
            None => {
                clusters.push((label, [0; 4], 0));
                clusters.len() - 1
            }
        };
        let (_, sum, count) = &mut clusters[slot];
        for (s, v) in sum
            .iter_mut()
            .zip([rect.x, rect.y, rect.width, rect.height])
        {
            *s += i64::from(v);
        }
        *count += 1;
    }
    let averaged: Vec<(Rect, usize)> = clusters
        .iter()
        .map(|(_, sum, count)| {
            let s = 1.0 / *count as f64;
            let avg = |v: i64| (v as f64 * s).round() as i32;
            (
                Rect {
                    x: avg(sum[0]),
                    y: avg(sum[1]),
                    width: avg(sum[2]),
                    height: avg(sum[3]),
                },
                *count,
            )
        })
        .collect();

    averaged
        .iter()
        .enumerate()
        .filter(|(_, (_, n1))| *n1 > min_neighbors)
        .filter(|&(i, &(r1, n1))| {
            !averaged.iter().enumerate().any(|(j, &(r2, n2))| {
                if i == j || n2 <= min_neighbors {
                    return false;
                }
                let dx = (f64::from(r2.width) * eps).round() as i32;
                let dy = (f64::from(r2.height) * eps).round() as i32;
                r1.x >= r2.x - dx
                    && r1.y >= r2.y - dy
                    && r1.x + r1.width <= r2.x + r2.width + dx
                    && r1.y + r1.height <= r2.y + r2.height + dy
                    && (n2 > n1.max(3) || n1 < 3)
            })
        })
        .map(|(_, (rect, _))| *rect)
        .collect()
}

fn similar(a: &Rect, b: &Rect, eps: f64) -> bool {
    let delta = eps * f64::from(a.width.min(b.width) + a.height.min(b.height)) * 0.5;
    let close = |p: i32, q: i32| f64::from((p - q).abs()) <= delta;
    close(a.x, b.x)
        && close(a.y, b.y)
        && close(a.x + a.width, b.x + b.width)
        && close(a.y + a.height, b.y + b.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: i32, y: i32, s: i32) -> Rect {
        Rect {
            x,
            y,
            width: s,
            height: s,
        }
    }

    #[test]
    fn clusters_average_and_need_enough_members() {
        let rects = [r(10, 10, 40), r(12, 10, 40), r(10, 12, 42), r(200, 200, 30)];
        assert_eq!(group_rectangles(&rects, 2, 0.2), vec![r(11, 11, 41)]);
        assert!(group_rectangles(&rects, 3, 0.2).is_empty());
    }

    #[test]
    fn a_weak_cluster_inside_a_strong_one_is_dropped() {
        let mut rects = vec![r(100, 100, 100); 8];
        rects.extend(vec![r(130, 130, 30); 2]);
        assert_eq!(group_rectangles(&rects, 1, 0.2), vec![r(100, 100, 100)]);
    }
}

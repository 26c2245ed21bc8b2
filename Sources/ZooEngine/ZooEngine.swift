import CBLAS
import ZooCore
